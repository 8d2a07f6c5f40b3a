from multiprocessing import Pool 
def foo(num): 
    print(num)
     
if __name__ == '__main__': 
    with Pool(5) as p: 
        p.map(foo, range(100))
